"""Seven-segment digits as MNIST IDX files, for tests that need MNIST-shaped
data without MNIST: 28x28 bytes, each digit shifted, thickened and shaded at
random by a seeded random.Random.

    write_set(folder, "train", 600, random.Random(1))  # train-images-idx3-ubyte, train-labels-idx1-ubyte
"""
import os
import struct

SIDE = 28
# Segments a-g of a seven-segment display as (row0, col0, row1, col1) on a
# 7 x 4 design grid, scaled into the image.
SEGMENTS = {"a": (0, 0, 0, 4), "b": (0, 4, 3, 4), "c": (3, 4, 6, 4), "d": (6, 0, 6, 4),
            "e": (3, 0, 6, 0), "f": (0, 0, 3, 0), "g": (3, 0, 3, 4)}
DIGITS = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"]


def digit(label, rng):
    """A 28x28 image (bytes, row-major) of `label`, light ink on black."""
    pixels = bytearray(SIDE * SIDE)
    top, left = 4 + rng.randint(-2, 2), 8 + rng.randint(-2, 2)
    height, width, thick = rng.randint(17, 20), rng.randint(9, 12), rng.randint(2, 3)
    ink = rng.randint(180, 255)
    for name in DIGITS[label]:
        r0, c0, r1, c1 = SEGMENTS[name]
        for r in range(top + r0 * height // 6, top + r1 * height // 6 + thick):
            for c in range(left + c0 * width // 4, left + c1 * width // 4 + thick):
                if 0 <= r < SIDE and 0 <= c < SIDE:
                    pixels[r * SIDE + c] = ink
    return bytes(pixels)


def write_set(folder, prefix, count, rng):
    labels = [rng.randrange(10) for _ in range(count)]
    with open(os.path.join(folder, prefix + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, count, SIDE, SIDE))
        for label in labels:
            f.write(digit(label, rng))
    with open(os.path.join(folder, prefix + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, count) + bytes(labels))
