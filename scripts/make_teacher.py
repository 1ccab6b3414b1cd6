"""Train the loss lab's default teacher and save it to assets/digits_teacher.npz.

    python3 -m scripts.make_teacher

The entropy page loads this file instead of training five MLPs while a class
waits (a few seconds alone, a minute on a loaded server).
``tests/test_entropy_core.py`` trains the teacher afresh and checks that the
file matches it, so the shipped logits are the ones the code produces.
"""

from __future__ import annotations

import torch

from core.losslab import TEACHER_FILE, Teacher, TeacherConfig, digits_split


def main() -> None:
    teacher = Teacher(TeacherConfig(), digits_split(), device=torch.device("cpu"))
    teacher.save(TEACHER_FILE)
    print(f"{TEACHER_FILE}: validation accuracy {teacher.val_accuracy:.2%}, "
          f"members {[round(a, 4) for a in teacher.member_val_accuracy]}, trained in {teacher.train_seconds:.1f} s")


if __name__ == "__main__":
    main()
