from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "careline.portal"
    label = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from careline.patients.page_sections import patient_section_register
        from careline.portal import tasks  # noqa: F401  (registers the task names)
        from careline.portal.patient_page import portal_section_context
        from careline.portal.signals import portal_keys_drop_on_staff_sign_in

        # A staff sign-in in a browser that had a patient's portal session ends the patient's session.
        user_logged_in.connect(portal_keys_drop_on_staff_sign_in, dispatch_uid="portal-keys-drop")
        patient_section_register(
            code="portal",
            title="Patient portal",
            template="portal/_patient_section.html",
            context=portal_section_context,
            order=20,
        )
