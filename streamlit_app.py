"""Autograd Lab: the entry point and home page. Each section is a script in pages/."""

from lab.ui import home

home.render()
