"""The patient portal as a channel: secure messages the signed-in patient reads in the portal."""
