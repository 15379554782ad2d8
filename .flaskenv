# Read by the flask command (python-dotenv): `flask ...` finds the app in a fresh checkout.
FLASK_APP=imperioApp:create_app
