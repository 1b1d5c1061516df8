"""PyTorch DataLoaders over Dora, and dorafs.load asking the scheduler to preload."""

from __future__ import annotations

import collections

import torch
from torch.utils.data import DataLoader

import dorafs
from dorafs.torch import FileDataset, RecordDataset


def test_a_dataloader_with_two_workers_reads_every_file_exactly_once(fs):
    dataset = FileDataset("/many/3", fs=fs, suffix=".txt", transform=lambda data: data.decode())
    assert len(dataset) == 2500
    loader = DataLoader(dataset, batch_size=50, num_workers=2, shuffle=True, multiprocessing_context="fork")
    seen = collections.Counter(text for batch in loader for text in batch)
    assert sum(seen.values()) == 2500
    assert set(seen.values()) == {1}
    assert seen.keys() == {f"file {i}\n" for i in range(7500, 10_000)}


def test_a_dataloader_over_fixed_size_records_reads_byte_ranges(fs, local_cluster):
    data = local_cluster["files"]["/data/pages.bin"]
    dataset = RecordDataset("/data/pages.bin", record_bytes=4096, fs=fs,
                            transform=lambda b: torch.frombuffer(bytearray(b), dtype=torch.uint8))
    assert len(dataset) == len(data) // 4096
    loader = DataLoader(dataset, batch_size=64, num_workers=2, multiprocessing_context="fork")
    joined = torch.cat([batch.reshape(-1) for batch in loader]).numpy().tobytes()
    assert joined == data[: len(dataset) * 4096]


def test_load_preloads_a_prefix_and_waits(local_cluster, fs):
    job = dorafs.load("/data", registry=local_cluster["cluster_file"], token=local_cluster["token"], progress=False)
    assert job["state"] == "succeeded"
    for path, data in local_cluster["files"].items():
        if path.startswith("/data/"):
            assert fs.info(path)["cached_bytes"] == len(data), path
