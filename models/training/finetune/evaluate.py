"""Validation metrics for a fine-tuned classifier, computed with scikit-learn (offline; the
`evaluate` library needs the Hub). Results are plain lists and floats so they travel through
job snapshots, JSON (the API) and the model card unchanged."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

MAX_MISCLASSIFIED = 50   # enough to read through; a big validation set would flood the page


@dataclass
class EvalReport:
    """How the model did on the validation set.

    confusion  [n_classes, n_classes] counts, rows = true class, columns = predicted class
    per_class  one dict per class: label, precision, recall, f1, support
    misclassified  up to MAX_MISCLASSIFIED dicts: text, true, predicted, confidence
    """
    classes: list
    accuracy: float
    macro_f1: float
    loss: float
    majority_baseline: float          # accuracy of always answering the training majority class
    confusion: list = field(default_factory=list)
    per_class: list = field(default_factory=list)
    misclassified: list = field(default_factory=list)
    n: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate(y_true, probs, texts, classes, loss: float, train_labels=None) -> EvalReport:
    """y_true: class indices; probs: [n, n_classes] probabilities; texts: the validation texts."""
    y_true = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=float)
    y_pred = probs.argmax(axis=1) if len(probs) else np.zeros(0, dtype=int)
    labels = list(range(len(classes)))
    if train_labels is not None and len(train_labels):
        majority = int(np.bincount(np.asarray(train_labels, dtype=int), minlength=len(classes)).argmax())
    else:
        majority = int(np.bincount(y_true, minlength=len(classes)).argmax()) if len(y_true) else 0
    baseline = float((y_true == majority).mean()) if len(y_true) else 0.0
    prec, rec, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    per_class = [{"label": str(classes[i]), "precision": float(prec[i]), "recall": float(rec[i]),
                  "f1": float(f1[i]), "support": int(support[i])} for i in labels]
    wrong = [i for i in range(len(y_true)) if y_pred[i] != y_true[i]]
    wrong.sort(key=lambda i: -probs[i, y_pred[i]])          # most confident mistakes first
    misclassified = [{"text": str(texts[i]), "true": str(classes[y_true[i]]),
                      "predicted": str(classes[y_pred[i]]), "confidence": float(probs[i, y_pred[i]])}
                     for i in wrong[:MAX_MISCLASSIFIED]]
    return EvalReport(
        classes=[str(c) for c in classes],
        accuracy=float(accuracy_score(y_true, y_pred)) if len(y_true) else 0.0,
        macro_f1=float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        loss=float(loss), majority_baseline=baseline,
        confusion=confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        per_class=per_class, misclassified=misclassified, n=int(len(y_true)))
