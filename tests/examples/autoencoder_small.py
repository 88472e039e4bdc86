#!/usr/bin/env python3
"""autoencoder on a few hundred generated digits, MNIST-shaped.

Writes the four MNIST IDX files into a temporary folder (seven-segment digits,
28x28, each shifted, thickened and shaded at random), trains 2 epochs at 1 and
2 threads, and checks that the Epoch lines are the same at both, that the
training and test losses fall, that --png writes a whole PNG of the size
digit_grid gives 10 digits above their reconstructions, that --dot draws one
box a layer, that the losses stay above the images' entropy (the least
binary cross-entropy can be), and that a bad flag is one line, exit code 2.

    python3 tests/examples/autoencoder_small.py build/examples/autoencoder
"""
import math
import os
import random
import struct
import subprocess
import sys
import tempfile
import zlib

from seven_segment import write_set


def entropy(images_path):
    """The mean over all pixels t = byte / 255 of -(t log t + (1-t) log(1-t)):
    binary cross-entropy's least value on these images."""
    pixels = open(images_path, "rb").read()[16:]
    h = lambda t: 0.0 if t in (0.0, 1.0) else -(t * math.log(t) + (1 - t) * math.log(1 - t))
    return sum(h(b / 255) for b in pixels) / len(pixels)


def png_size(path):
    """(width, height) from the IHDR of a PNG whose chunks and image data are whole."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    pos, chunks, idat = 8, [], b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append(kind)
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND" and b"IDAT" in chunks, chunks
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour) == (8, 0), (depth, colour)  # 8-bit gray
    assert len(zlib.decompress(idat)) == height * (1 + width), "the image data is not width x height"
    return width, height


def main(exe, folder):
    rng = random.Random(7)
    write_set(folder, "train", 512, rng)
    write_set(folder, "t10k", 128, rng)

    def run(threads, *extra):
        r = subprocess.run([exe, "--data", folder, "--epochs", "2", "--batch-size", "32",
                            "--threads", str(threads)] + list(extra), capture_output=True, text=True)
        assert r.returncode == 0, r
        return [l for l in r.stdout.splitlines() if l.startswith("Epoch ")], r.stdout

    png, dot = os.path.join(folder, "reconstructions.png"), os.path.join(folder, "autoencoder.dot")
    # By default every image in the files: the same as naming their counts.
    (one, out), (two, _) = run(1), run(2, "--train-rows", "512", "--test-rows", "128", "--png", png, "--dot", dot)
    assert len(one) == 2 and one == two, (one, two)
    losses = [(float(l.split("loss = ")[1].split(",")[0]), float(l.split("test loss = ")[1])) for l in one]
    assert losses[1][0] < losses[0][0] and losses[1][1] < losses[0][1], one
    # No reconstruction beats the pixels' own entropy: a lower loss means the
    # program trained or tested on other images than the files'.
    for (train_loss, test_loss) in losses:
        assert train_loss > entropy(os.path.join(folder, "train-images-idx3-ubyte")), one
        assert test_loss > entropy(os.path.join(folder, "t10k-images-idx3-ubyte")), one
    assert "seconds: " in out, out

    # digit_grid: 10 columns of 56-pixel tiles, 2 rows with a 20-pixel label band, 4-pixel margins.
    assert png_size(png) == (4 + 10 * (56 + 4), 4 + 2 * (56 + 20 + 4)), png_size(png)
    graph = open(dot).read()
    for layer in ("encoder", "code", "decoder", "pixels"):
        assert "<B>" + layer + "</B>" in graph, layer

    r = subprocess.run([exe, "--epochs", "0"], capture_output=True, text=True)
    assert r.returncode == 2, r
    assert r.stderr == "autoencoder: --epochs takes a whole number from 1 to 1000, not '0'\n", r.stderr


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        main(sys.argv[1], folder)
