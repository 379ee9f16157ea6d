"""The one outbound path: every text or email is a row first, then claimed and sent by a worker.

Life of a message (one module per step; import each function from its module):
  compose.message_send()      -> row QUEUED (or SUPPRESSED with a reason: policy), task enqueued after commit
  dispatch.message_dispatch() -> claims QUEUED -> SENDING with a conditional UPDATE (queue: one worker wins),
                                 re-checks the policy, waits for a rate slot, calls the channel type
                              -> SENT with the provider id; or QUEUED again with `due_at` = backoff
                                 (temporary error); or FAILED (permanent error, or out of attempts)
  status.message_status_apply -> delivery reports only ever move a message forward (STATE_RANK)
  many at once                -> bulk.messages_send_bulk() creates a batch in a few queries (its
                                 conversations: bulk_conversations); inside
                                 queue.messages_enqueue_batched() tasks carry up to DISPATCH_BATCH ids
  sweep.messages_sweep()      -> re-enqueues due rows (retries, quiet hours, scheduled, lost tasks) and
                                 recovers rows stuck in SENDING after a worker died

policy.py is the one owner of whether a message may go (consent, opt-out, the rule of its purpose) and
of quiet hours, for messaging and for scheduling's reminders alike.

The ambiguous case: a worker dies, or the provider times out, after the provider accepted the message
but before the row says SENT. Such a row is resolved by asking the channel type whether the provider
already has the message (`find_sent`); when the type cannot tell, the retry is marked and asks
again before it posts; only when the provider still cannot tell is the message sent again (at least
once), so a duplicate is possible only in that window.
"""
