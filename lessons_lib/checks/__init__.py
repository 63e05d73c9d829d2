"""Checkers for the "Check yourself" exercises, one module per lesson (``lesson01`` ...).

A checker prints what is right or wrong in a learner's answer and returns
True or False; it never raises on a wrong answer, so a notebook can show the
feedback for an unsolved exercise.
"""
