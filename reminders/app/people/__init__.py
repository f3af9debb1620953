"""A person and their consents: enrolling and changing what they chose (preferences), the
double opt-in requests, email consent, caregivers, forgetting a person.
"""
