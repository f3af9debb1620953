"""What goes out on a person's evening: the dispatcher that claims who is due, the nightly
reminder's flow, the weekly summary, and the capacity forecast for tonight.
"""
