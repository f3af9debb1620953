"""The evening call: what a key pressed does (keypad), and a call that did not reach the
person (redial).
"""
