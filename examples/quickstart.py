"""Quickstart: differentiate f(x) = 3x² + 2x + 1 and print the generated derivative code."""

import srcgrad


def f(x):
    return 3 * x**2 + 2 * x + 1


def main():
    df = srcgrad.grad(f)
    print("f(x) = 3x² + 2x + 1")
    print(f"f(2) = {f(2.0)}")
    print(f"f'(2) = {df(2.0)}")
    print()
    print("Generated derivative code (srcgrad.source(df)):")
    print(srcgrad.source(df))


if __name__ == "__main__":
    main()
