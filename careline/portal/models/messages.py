"""What each portal account has read of the portal conversations it may open."""

from __future__ import annotations

from django.db import models


class PortalReadMark(models.Model):
    """The newest message of a portal conversation an account has seen; newer ones are unread for it."""

    account = models.ForeignKey("portal.PortalAccount", on_delete=models.CASCADE, related_name="read_marks")
    conversation = models.ForeignKey("messaging.Conversation", on_delete=models.CASCADE, related_name="+")
    last_read_message_id = models.PositiveBigIntegerField(default=0)
    read_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "conversation"], name="portal_read_mark_unique")
        ]

    def __str__(self) -> str:
        return f"Read mark of account {self.account_id} in conversation {self.conversation_id}"
