"""The fault suite: real workers, beats and a fake provider, whatever breaks."""
