"""Screens and modal dialogs of the tutorial app."""
