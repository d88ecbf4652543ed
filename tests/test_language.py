import pytest

import dlbook
from dlbook import language


@pytest.fixture(autouse=True)
def restore():
    before = language.current()
    yield
    language.set_language(before)


def test_tr_picks_the_edition_language_and_shows_both_until_one_is_set():
    language.set_language(None)
    assert dlbook.tr("에포크", "epoch") == "에포크 · epoch"
    assert dlbook.tr("x", "x") == "x"
    dlbook.set_language("ko")
    assert dlbook.tr("에포크", "epoch") == "에포크" and language.current() == "ko"
    dlbook.set_language("en")
    assert dlbook.tr("에포크", "epoch") == "epoch" and language.current() == "en"


def test_bad_language_and_texts_are_named():
    with pytest.raises(ValueError, match=r"language must be one of \('ko', 'en'\) or None, got 'kr'"):
        dlbook.set_language("kr")
    with pytest.raises(TypeError, match="tr's en text must be a str, got int"):
        dlbook.tr("하나", 1)


def _library_figures():
    """One figure from each plotting helper of the library that writes words of its own."""
    import torch

    from dlbook import autograd, diagrams, init, knn, train

    history = {"epoch": [1, 2], "train_loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "train_acc": [0.5, 0.7],
               "val_acc": [0.4, 0.6]}
    x = autograd.Value(2.0, label="x")
    y = x * x
    y.backward()
    points = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    model = knn.KNNClassifier(k=2).fit(points, torch.tensor([0, 0, 1, 1]))
    stats = init.activation_stats(init="small", activation="tanh", depth=2, width=8, n=16)
    return {"plot_history": train.plot_history(history), "draw_graph": diagrams.draw_graph(y),
            "plot_activation_histograms": init.plot_activation_histograms(stats, bins=5),
            "knn.plot_decision_boundaries": knn.plot_decision_boundaries([model], resolution=20)}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_library_figures_write_their_words_in_the_edition_language(lang):
    from dlbook import plot
    from dlbook_tools import edition_language

    dlbook.set_language(lang)
    wrong = {name: [w for w in plot.figure_labels(fig) if not edition_language.speaks(w, lang)]
             for name, fig in _library_figures().items()}
    assert {name: words for name, words in wrong.items() if words} == {}
