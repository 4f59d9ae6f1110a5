"""Figures that dlguide draws stay readable: no label of a figure overlaps another."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import pytest

from dlguide.neurons import draw_network


@pytest.mark.parametrize(
    "sizes",
    [
        pytest.param([5, 3, 2, 3, 1], id="chapter-1-network"),
        pytest.param([2, 2, 1], id="small"),
        pytest.param([8, 16, 16, 16, 16, 16, 1], id="deep-and-wide"),
    ],
)
def test_network_figure_labels_do_not_overlap(sizes: list[int]):
    fig, ax = plt.subplots(figsize=(7, 4))
    try:
        draw_network(sizes, ax=ax)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        labels = [label for label in ax.get_xticklabels() if label.get_text()]
        assert len(labels) == len(sizes)
        assert labels[-1].get_text().endswith(f"{sizes[-1]} neuron{'s' if sizes[-1] > 1 else ''}")
        boxes = [label.get_window_extent(renderer) for label in labels]
        boxes.append(ax.xaxis.label.get_window_extent(renderer))
        for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
            assert not a.overlaps(b), f"labels {i} and {j} overlap"
    finally:
        plt.close(fig)
