"""Autograd Lab: entry point. Page config, the page list and the shared sidebar."""

from lab.ui.shell import run_app

run_app()
