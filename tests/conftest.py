from pathlib import Path

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
ROOT = Path(__file__).resolve().parents[1]

# Each test file's one marker (registered in pyproject.toml): `pytest -m lib` runs the library's tests,
# and so on. A new test file goes here; tests/test_lint.py fails on a file missing from the table.
MARKED_FILES = {
    "lib": (  # the library's own modules (lib/dlbook): fast, no notebooks
        "test_activations.py", "test_augmentation.py", "test_autograd.py", "test_batchnorm.py", "test_check.py",
        "test_conv.py", "test_data.py", "test_diagrams.py", "test_dimensionality.py", "test_features.py",
        "test_gradcheck.py", "test_init.py", "test_knn.py", "test_language.py", "test_layers.py", "test_linear.py", "test_losses.py",
        "test_metrics.py", "test_mlp.py", "test_models.py", "test_nets.py", "test_optim.py", "test_perceptron.py",
        "test_plot.py", "test_preprocessing.py", "test_regularization.py", "test_rnn.py", "test_runtime.py",
        "test_scaling.py", "test_search.py", "test_summary.py", "test_surfaces.py", "test_tensors.py", "test_text.py", "test_train.py",
        "test_widgets.py",
    ),
    "book": (  # the book as a whole: editions, headers, glossary, search, docs, packaging, lint
        "test_backlinks.py", "test_docs.py", "test_edition_language.py", "test_editions.py", "test_glossary.py", "test_install.py",
        "test_lint.py", "test_publishing.py", "test_search_ko.py", "test_structure.py",
    ),
    "course": (  # nbgrader: exercise generation, autograding, the instructor's kit
        "test_course_intake.py", "test_course_kit.py", "test_course_report.py", "test_exercises.py",
        "test_readme_course.py", "test_wrong_answers.py",
    ),
    "browser": ("test_book_html.py",),  # the built HTML in a headless browser
}
MARKER_OF = {name: marker for marker, names in MARKED_FILES.items() for name in names}
NOTEBOOK_DIRS = ("chapters", "solutions", "exercises")  # notebooks nbval collects: "book"


def marker_of(path: Path) -> str | None:
    """The marker of a collected file: from MARKED_FILES for tests/, "book" for a notebook."""
    path = Path(path).resolve()
    if path.parent == ROOT / "tests":
        return MARKER_OF.get(path.name)
    if path.suffix == ".ipynb" and path.is_relative_to(ROOT) and path.relative_to(ROOT).parts[0] in NOTEBOOK_DIRS:
        return "book"
    return None


def pytest_collection_modifyitems(config, items):
    """Give every item the one marker of its file (this hook sees notebooks too when they are collected
    together with tests/; `pytest chapters/…` alone needs no marker to select them)."""
    for item in items:
        marker = marker_of(item.path)
        if marker and not any(item.get_closest_marker(m) for m in MARKED_FILES):
            item.add_marker(marker)


@pytest.fixture(params=DEVICES)
def device(request):
    """Run a test on the CPU, and on the GPU too when CUDA is present."""
    return torch.device(request.param)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


class Float64Recorder(TorchDispatchMode):
    """Inside ``with Float64Recorder() as rec:``, ``rec.ops`` lists every operation that produced a
    float64 tensor — on MPS each would fail, so code meant for MPS must leave it empty."""

    def __init__(self):
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if any(isinstance(t, torch.Tensor) and t.dtype == torch.float64 for t in tree_leaves(out)):
            self.ops.append(str(func))
        return out


@pytest.fixture
def record_float64():
    """``with record_float64() as rec: …`` then ``rec.ops``: see :class:`Float64Recorder`."""
    return Float64Recorder
