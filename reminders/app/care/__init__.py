"""Foot problems and the care team's loop: what people tell us about their feet (foot_problems,
flags), review items, escalation, silence check-ins, the inbox and the loop's figures.
"""
