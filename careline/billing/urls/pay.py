"""The pay page's routes under /pay/ (namespace `pay`): the signed link is the key (careline/billing/paylinks.py)."""

from django.urls import path

from careline.billing.views import pay

app_name = "pay"

urlpatterns = [
    path("<str:token>/", pay.pay_page, name="page"),
    path("<str:token>/checkout", pay.pay_checkout, name="checkout"),
    path("<str:token>/fresh-link", pay.pay_fresh_link, name="fresh_link"),
]
