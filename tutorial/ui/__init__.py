"""The Textual app: the only package that imports textual (and it never imports kubernetes or sh)."""
