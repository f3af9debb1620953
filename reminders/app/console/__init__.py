"""The operators' console's use cases: accounts and sessions, finding people, the Tonight
page, a coordinator's enrol / pending / caregiver actions.
"""
