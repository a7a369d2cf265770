"""Shared by the plotting scripts of launch/: the bad-input exception and the atomic PNG write."""
import os


class InputProblem(Exception):
    """Bad input the user can fix: exit code 2."""


def save_atomically(fig, out):
    """Writes the figure as PNG to a temporary name in out's directory, then renames it to out."""
    directory = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(directory):
        raise InputProblem(f"{out}: directory {directory} does not exist")
    tmp = f"{out}.tmp-{os.getpid()}"
    try:
        fig.savefig(tmp, format="png", dpi=100)
        os.replace(tmp, out)
    except OSError as e:
        raise InputProblem(f"{out}: cannot write: {e}") from e
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
