"""The demo clinic's help chat answers (English and Spanish) and a portal conversation with the care team."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from careline.accounts.models import User
from careline.messaging.channels.portal.conversations import portal_conversation, portal_patient_message
from careline.messaging.models import Conversation, Message, MessageKind, MessageState
from careline.portal.models import FaqEntry, PortalAccount

FAQ = [
    ("en", "What are your opening hours?", "We are open Monday to Friday, 8:00 to 17:00. The portal's "
     "help chat answers at any hour, and staff reply when we open.", "hours, open, closed, weekend, holiday"),
    ("en", "How do I get a prescription refill?", "Ask your pharmacy to send us a refill request, or write "
     "to your care team under Messages. Allow two working days.", "refill, prescription, medication, pharmacy"),
    ("en", "How do I reschedule my appointment?", "Open Appointments, choose the visit and press Reschedule, "
     "or call the clinic.", "reschedule, appointment, visit, move, change"),
    ("en", "Where can I park?", "Free parking is behind the building; the entrance is on the side street.",
     "parking, park, car"),
    ("en", "When will my lab results be ready?", "Most results are ready in two to three working days. You "
     "get a text or an email when one is released to you under Results.", "lab, results, test, blood"),
    ("es", "¿Cuál es el horario de atención?", "Abrimos de lunes a viernes, de 8:00 a 17:00. El chat de "
     "ayuda del portal responde a cualquier hora.", "horario, abierto, cerrado, fin de semana"),
    ("es", "¿Cómo pido una receta?", "Pida a su farmacia que nos envíe la solicitud, o escriba a su equipo "
     "de atención en Mensajes. Espere dos días hábiles.", "receta, medicamento, farmacia, resurtir"),
    ("es", "¿Cómo cambio mi cita?", "Abra Citas, elija la visita y presione Cambiar, o llame a la clínica.",
     "cita, cambiar, visita, mover"),
    ("es", "¿Dónde me estaciono?", "Hay estacionamiento gratis detrás del edificio.",
     "estacionamiento, estacionar, carro, auto"),
]  # fmt: skip

CONVERSATIONS = 2


def portal_help_demo_populate(*, front_desk: User) -> dict[str, int]:
    """FAQ entries in both languages, and for the first patients with a portal account a conversation:
    their question and a care-team reply, as the portal and the inbox show them."""
    for order, (language, question, answer, keywords) in enumerate(FAQ, 1):
        FaqEntry.objects.get_or_create(
            language=language,
            question=question,
            defaults={"answer": answer, "keywords": keywords, "order": order * 10},
        )
    accounts = PortalAccount.objects.filter(patient__isnull=False).select_related("patient").order_by("pk")
    now = timezone.now()
    made = 0
    for account in accounts[:CONVERSATIONS]:
        patient = account.patient
        assert patient is not None
        conversation = portal_conversation(patient=patient)
        if Message.objects.filter(conversation=conversation).exists():
            continue
        asked = portal_patient_message(
            conversation=conversation,
            body="Hello, could you send me the letter for my employer about last week's visit?",
        )
        Message.objects.filter(pk=asked.pk).update(created_at=now - timedelta(hours=3))
        # The care team's answer, as a delivered portal reply (no notice: this is seeded history).
        Message.objects.create(
            conversation=conversation,
            channel_id=conversation.channel_id,
            patient=patient,
            direction=Message.Direction.OUTBOUND,
            kind=MessageKind.STAFF,
            to_address=conversation.contact,
            from_address=conversation.channel.address,
            body="Of course. The letter is ready; you can pick it up at the front desk or we can mail it.",
            state=MessageState.DELIVERED,
            author=front_desk,
            sent_at=now - timedelta(hours=1),
            delivered_at=now - timedelta(hours=1),
            finished_at=now - timedelta(hours=1),
        )
        Conversation.objects.filter(pk=conversation.pk).update(
            unread_count=0, assigned_to=front_desk, last_message_at=now - timedelta(hours=1)
        )
        made += 1
    return {"portal conversations": made, "FAQ entries": len(FAQ)}
