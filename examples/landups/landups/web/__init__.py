"""The Landups web application: server-rendered pages for users and the support desk."""
