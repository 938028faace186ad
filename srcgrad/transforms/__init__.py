"""Reverse and forward mode: statement by statement from the rules' templates, with the tape."""
