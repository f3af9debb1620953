"""The one send path and its parts: claim -> render -> pace -> send -> record for every
kind and channel (send_path), the shared pace (pacing, in_flight), the SMS circuit, the look-up
after a lost answer (lost_answers), deterministic email Message-IDs, what a retry is, what the
path refuses to act on (guards), what a provider's answer means for consent, and the status
callbacks. Imports nothing else of app/.
"""
