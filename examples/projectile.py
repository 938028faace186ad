"""Optimise a launch angle through a simulation loop that runs until the projectile lands.

A projectile with quadratic air drag is integrated step by step *while it is above the
ground*: how many steps run depends on the angle. srcgrad differentiates through that
loop (the generated code records the trip count and the overwritten state on its tape),
so gradient ascent on the angle finds the longest throw. With drag the best angle is
below 45°; a brute-force scan over angles confirms the answer. (The range is continuous in
the angle, but its slope has tiny kinks where the number of steps changes: the derivative
is that of the path that ran.)
"""

import math

import srcgrad
from srcgrad import optim


def flight_range(angle, speed=30.0, drag=0.02, gravity=9.81, dt=0.01):
    """Horizontal distance (m) travelled before landing, launched at `angle` radians."""
    x, y = 0.0, 0.0
    vx, vy = speed * math.cos(angle), speed * math.sin(angle)
    x_before, y_before = x, y
    while y >= 0.0:
        x_before, y_before = x, y
        v = math.sqrt(vx * vx + vy * vy)
        vx = vx - dt * drag * v * vx
        vy = vy - dt * (gravity + drag * v * vy)
        x = x + dt * vx
        y = y + dt * vy
    # land between the last two points (linear interpolation), so the range is smooth
    return x_before + (x - x_before) * y_before / (y_before - y)


def negative_range(angle):
    return -flight_range(angle)


def main(iterations=30, start_degrees=20.0, scan_points=181):
    """Climb the range by gradient ascent; return (best angle found, scanned best angle)."""
    angle = math.radians(start_degrees)
    opt = optim.sgd(lr=0.005)  # gradient descent on -range: ascent on the range
    state = opt.init(angle)
    slope = srcgrad.grad(negative_range)
    for i in range(iterations + 1):
        g = slope(angle)
        if i % 5 == 0 or i == iterations:
            print(f"iteration {i:3d}  angle {math.degrees(angle):6.2f}°  range {flight_range(angle):7.3f} m  "
                  f"d range/d angle {-g:8.3f} m/rad")
        if i < iterations:
            angle, state = opt.update(angle, g, state)
    angles = [math.radians(10 + 60 * i / (scan_points - 1)) for i in range(scan_points)]
    scanned = max(angles, key=flight_range)
    print(f"gradient ascent: {math.degrees(angle):.2f}°, {flight_range(angle):.3f} m")
    print(f"scan of {scan_points} angles from 10° to 70°: best {math.degrees(scanned):.2f}°, {flight_range(scanned):.3f} m")
    return angle, scanned


if __name__ == "__main__":
    main()
