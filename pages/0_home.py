"""The home page: what the lab teaches and a link to each section. Imports no torch."""

from lab.ui import home

home.render()
