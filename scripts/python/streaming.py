"""The streaming benchmark of scripts/bench: `eval` over a folder of 50,000 500x375 JPEGs.

The folder is made once from the 750 photographs of ../shared/datasets/imagenet-sample (each copy cropped at a
seeded offset, flipped at random, resized to 500x375 landscape, saved at quality 90, in the sample's class
folders), so decoding costs what real photographs cost; it lives in .build-bench and is never committed.
"""
import multiprocessing
import os
import random
import resource
import subprocess
import time

SAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "..", "shared",
                      "datasets", "imagenet-sample")


def _write(job):
    from PIL import Image
    source, target, seed = job
    rng = random.Random(seed)
    image = Image.open(source).convert("RGB")
    width, height = image.size
    box_w, box_h = int(width * rng.uniform(0.8, 1.0)), int(height * rng.uniform(0.8, 1.0))
    left, top = rng.randint(0, width - box_w), rng.randint(0, height - box_h)
    image = image.crop((left, top, left + box_w, top + box_h))
    if rng.random() < 0.5:
        image = image.transpose(Image.FLIP_LEFT_RIGHT)
    image.resize((500, 375), Image.BILINEAR).save(target, quality=90)


def make_folder(folder, count=50_000):
    """Writes the folder unless it is complete already; returns its path."""
    marker = os.path.join(folder, ".complete")
    if os.path.exists(marker):
        return folder
    photos = sorted(os.path.join(root, name) for root, _, names in os.walk(SAMPLE) for name in names if name.endswith(".jpg"))
    jobs = []
    for index in range(count):
        source = photos[index % len(photos)]
        wnid = os.path.basename(os.path.dirname(source))
        os.makedirs(os.path.join(folder, wnid), exist_ok=True)
        jobs.append((source, os.path.join(folder, wnid, f"{index:06d}.jpg"), index))
    with multiprocessing.Pool(2) as pool:
        pool.map(_write, jobs, chunksize=256)
    open(marker, "w").close()
    return folder


def run(ptq, model, folder, count):
    """`ptq run` of load + data + eval; returns (seconds, peak RSS in MB, the eval table)."""
    script = os.path.join(os.path.dirname(folder), "stream.ptq")
    with open(script, "w") as handle:
        handle.write(f"load {model}\n")
        handle.write(f"data {folder} --classes {os.path.join(SAMPLE, 'synset_words.txt')} --resize 256 --crop 224 "
                     f"--preset imagenet --limit {count} --for evaluation\n")
        handle.write("eval\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.time()
    out = subprocess.run([ptq, "run", script], check=True, capture_output=True, text=True).stdout
    seconds = time.time() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024, out
