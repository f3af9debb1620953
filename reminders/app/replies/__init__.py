"""Texts from people and the replies: the inbound handler, the commands that change a
person's own settings, texts about a caregiver link, LESS / MORE / TEMP.
"""
