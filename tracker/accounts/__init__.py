"""Staff accounts: passwords and signing in (``operations``); the console's blueprint, who
may do what, refusals and the actor of a request (``access``); which offices an account
sees (``scope``); and the pages to sign in and out and to switch accounts off or on
(``views``)."""
