from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "careline.portal"
    label = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from careline.portal import (
            billing_home,  # noqa: F401 - the Balance card
            care_home,  # noqa: F401 - the check-in waiting card
            message_cards,  # noqa: F401 - registers the Home card and the search
            records_home,  # noqa: F401 - the New results card and records search
            referral_cards,  # noqa: F401 - the Your referrals card
            tasks,  # noqa: F401  (registers the task names)
        )
        from careline.portal.signals import portal_keys_drop_on_staff_sign_in
        from careline.portal.staff_sections import staff_sections_register
        from careline.portal.views import appointments  # noqa: F401 - registers the "Next visit" Home card

        # A staff sign-in in a browser that had a patient's portal session ends the patient's session.
        user_logged_in.connect(portal_keys_drop_on_staff_sign_in, dispatch_uid="portal-keys-drop")
        staff_sections_register()
        from careline.messaging.urgent import urgent_phrases_source_register
        from careline.portal.services.help import urgent_phrases_stored

        # The urgent words administrators keep here are also the ones messaging looks for in texts.
        urgent_phrases_source_register(urgent_phrases_stored)
