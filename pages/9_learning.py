"""Learning with gradients: x.grad turned into a fitted line, one descent step at a time."""

from lab.ui import cached
from lab.ui.cell_views import code_panel
from lab.ui.shell import page, section
from lab.ui.training_views import after_reveal, before_reveal, loop_inputs, prediction


@section
def lesson() -> None:
    """The loop's inputs, the prediction and the run: a change reruns this part only."""
    run = cached.training_run(loop_inputs())
    guess, revealed = prediction()
    if revealed:
        after_reveal(run, guess)
    else:
        before_reveal(run)
    code_panel(run.code, name="learning")


with page("learning"):
    lesson()
