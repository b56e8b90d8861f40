"""The Kivy cashier app: screens over the till's services (never SQL in widgets).

Importing this package does not import Kivy; :mod:`pos_client.ui.app` does.
"""
