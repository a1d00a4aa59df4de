"""Widgets of the tutorial app, one area per module."""
