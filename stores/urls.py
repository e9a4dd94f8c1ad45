from django.urls import path

from stores import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("invite/<uidb64>/<token>/", views.invite_accept, name="invite-accept"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("shopify/install", views.install, name="shopify-install"),
    path("shopify/callback", views.callback, name="shopify-callback"),
    path("shopify/webhooks", views.webhook, name="shopify-webhooks"),
    path("shopify/bounce", views.bounce, name="shopify-bounce"),
]
