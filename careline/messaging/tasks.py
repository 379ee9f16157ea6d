"""Celery tasks: each takes an id, calls a service, and nothing else.

This module imports the services, never the reverse: a service queues a task by its name through
careline.core.queue.task_enqueue. MessagingConfig.ready() imports it so every name is registered.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from careline.messaging.channels.portal.notices import portal_reply_notice
from careline.messaging.outbound.dispatch import message_dispatch, messages_dispatch
from careline.messaging.outbound.status_callbacks import status_callbacks_apply_all, status_callbacks_prune
from careline.messaging.outbound.sweep import messages_sweep
from careline.messaging.services.announcements import announcement_messages_create, announcements_stalled
from careline.messaging.services.inbound import inbound_process, inbound_requeue
from careline.messaging.services.inbound_media import inbound_media_copy, inbound_media_requeue
from careline.messaging.services.simulator import simulator_deliver

logger = logging.getLogger(__name__)


@shared_task(name="messaging.dispatch_message", ignore_result=True)
def dispatch_message(message_id: int) -> str:
    """Send one queued message if it is due (a duplicate or late task does nothing)."""
    return message_dispatch(message_id)


@shared_task(name="messaging.dispatch_messages", ignore_result=True)
def dispatch_messages(message_ids: list[int]) -> None:
    """Send a batch of queued messages (those already sent or claimed elsewhere are skipped)."""
    messages_dispatch(message_ids)


@shared_task(name="messaging.sweep", ignore_result=True)
def sweep_messages() -> dict[str, int]:
    """Enqueue due messages (retries, quiet hours, scheduled) and recover rows whose worker died."""
    return messages_sweep()


@shared_task(name="messaging.status_callbacks_apply", ignore_result=True)
def apply_status_callbacks() -> dict[str, int]:
    """Apply the stored delivery reports in batches (also the periodic step, for reports of a crash)."""
    return status_callbacks_apply_all()


@shared_task(name="messaging.status_callbacks_prune", ignore_result=True)
def prune_status_callbacks() -> int:
    """Delete delivery reports applied long ago."""
    return status_callbacks_prune()


@shared_task(name="messaging.inbound_requeue", ignore_result=True)
def requeue_inbound() -> int:
    """Queue processing again for inbound texts stored a while ago whose task was lost (a crash first)."""
    return inbound_requeue(now=timezone.now())


@shared_task(name="messaging.process_inbound_batch", ignore_result=True)
def process_inbound_batch(message_ids: list[int]) -> int:
    """Process stored inbound messages and copy their media; one that fails is left for the sweeps."""
    done = 0
    for message_id in message_ids:
        try:
            processed = inbound_process(message_id)
        except Exception:
            logger.exception("processing inbound message %s failed", message_id)
            continue
        done += processed
        if processed:
            # After the keywords and replies committed: a slow media fetch never delays an opt-out.
            _copy_media(message_id)
    return done


@shared_task(name="messaging.copy_inbound_media", ignore_result=True)
def copy_inbound_media(message_ids: list[int]) -> int:
    """Copy the due media of inbound messages (a message claimed elsewhere or not due is skipped)."""
    return sum(_copy_media(message_id) for message_id in message_ids)


@shared_task(name="messaging.inbound_media_sweep", ignore_result=True)
def inbound_media_sweep() -> int:
    """Queue the copy of inbound media that is due again (a retry, or a worker that died); how many."""
    return inbound_media_requeue()


def _copy_media(message_id: int) -> int:
    try:
        return inbound_media_copy(message_id)
    except Exception:
        # The message stays claimed until its lease runs out; the media sweep then tries again.
        logger.exception("copying media of inbound message %s failed", message_id)
        return 0


@shared_task(name="messaging.simulator_report_status", ignore_result=True)
def simulator_report_status(message_id: int, provider_message_id: str) -> None:
    """The simulator's delivery report, sent a moment after the message like a real provider's."""
    simulator_deliver(message_id, provider_message_id)


@shared_task(name="messaging.portal_reply_notice", ignore_result=True)
def portal_reply_notice_send(message_id: int) -> None:
    """Tell the patient a staff message waits in the portal (coalesced; a duplicate task sends nothing)."""
    portal_reply_notice(message_id)


@shared_task(name="messaging.announcement_fanout", ignore_result=True)
def announcement_fanout(announcement_id: int) -> int:
    """Create one message per recipient of an announcement (a second run creates nothing new)."""
    return announcement_messages_create(announcement_id=announcement_id)


@shared_task(name="messaging.announcements_resume", ignore_result=True)
def announcements_resume() -> int:
    """Run the fan-out again for announcements whose task was lost (a worker died mid-way)."""
    return sum(announcement_messages_create(announcement_id=pk) for pk in announcements_stalled())
