"""Portal routes: billing (statements, the balance, paying)."""

from django.urls import URLPattern, URLResolver, path

from careline.portal.views import billing

urlpatterns: list[URLPattern | URLResolver] = [
    path("billing/", billing.billing, name="billing"),
    path("billing/statements/<int:pk>/", billing.statement, name="statement"),
    path("billing/statements/<int:pk>/pdf", billing.statement_file, name="statement_file"),
    path("billing/statements/<int:pk>/pay", billing.statement_pay, name="statement_pay"),
]
