"""Learning with gradients: x.grad turned into a fitted line, one descent step at a time."""

from lab.ui import cached, class_views
from lab.ui.cell_views import code_panel
from lab.ui.shell import page, section
from lab.ui.training_views import after_reveal, before_reveal, loop_inputs, prediction


@section
def lesson() -> None:
    """The loop's inputs, the prediction and the run: a change reruns this part only."""
    run = cached.training_run(loop_inputs())
    gate = class_views.gate("learning", commit="reveal")    # in a class: held till revealed
    guess, revealed = prediction()
    if revealed and guess is not None:                       # committed: sent to a class
        class_views.commit("learning", guess, correct=run.judge(guess) == "right")
    class_views.at_question("learning", gate)
    if gate.revealed or revealed and not gate.held:
        after_reveal(run, guess)
    else:
        before_reveal(run)
    code_panel(run.code, name="learning")


with page("learning"):
    lesson()
