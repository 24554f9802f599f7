"""The "Model card" page: what the model is, its data, its scores, what it looks at."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app_pages.charts import confusion_matrix_chart
from app_pages.shared import LABEL_NAMES, PageContext, page_context
from sentiment import config
from sentiment.model.explain import readable_ngram, top_features_per_class
from sentiment.model.predictor import Predictor

INDICATIVE_NGRAMS = 10

# Published macro-averaged recall on the SemEval-2017 Task 4A test set
# (copied from shared/data/semeval2017/README.md), to put our score in context.
REFERENCE_SCORES = pd.DataFrame(
    [
        ("SemEval-2017 best systems (deep ensembles)", 0.681),
        ("TweetEval: SVM", 0.629),
        ("TweetEval: FastText", 0.629),
        ("TweetEval: RoBERTa-base", 0.713),
    ],
    columns=["system", "macro recall (AvgRec)"],
)


def render(context: PageContext) -> None:
    """What the model is, what it was trained on, how well it does, what it looks at."""
    predictor = context.predictor
    card = predictor.card
    st.markdown(description(card, predictor.version))
    st.markdown(training_summary(card))
    metrics = card.get("test_metrics")
    if metrics:
        data = metrics.get("data", {})
        st.subheader(f"Benchmark: {data.get('file', 'test set')}")
    else:
        metrics = card.get("validation_metrics")
        st.subheader("Validation split")
        st.caption("This model's card records no benchmark (test set) evaluation.")
    if metrics:
        metrics_ui(metrics)
    st.markdown("**Published results on the SemEval-2017 test set, for comparison**")
    st.dataframe(REFERENCE_SCORES, hide_index=True)
    if isinstance(predictor, Predictor):
        indicative_ngrams_ui(predictor)
        with st.expander("Hyperparameters and library versions"):
            st.json({k: card.get(k) for k in ("hyperparameters", "versions", "seed")})


def description(card: dict[str, Any], version: str) -> str:
    """One paragraph (markdown) on the features and the classifier."""
    params = card.get("hyperparameters", config.HYPERPARAMS)
    word, char = params["word_ngram_range"], params["char_ngram_range"]
    extras = []
    if params.get("lexicon_scale") or params.get("pattern_scale"):
        extras.append("sentiment-lexicon scores (VADER, TextBlob)")
    if params.get("vector_scale"):
        extras.append(
            "the mean of its words' pretrained vectors (distilled from "
            "all-MiniLM-L6-v2), so that similar words it never saw count too"
        )
    return (
        f"**What it is.** TF-IDF of word {word[0]}–{word[1]}-grams and character "
        f"{char[0]}–{char[1]}-grams of tweet-normalized text (URLs and @users as "
        "placeholders, hashtags split, negation marked)"
        + "".join(f", plus {extra}" for extra in extras)
        + ", fed to a logistic regression over the three classes. Model version "
        f"`{version}`."
    )


def training_summary(card: dict[str, Any]) -> str:
    """One sentence (markdown): when, on which file, how many posts per label."""
    training = card.get("training_data") or {}
    counts = training.get("label_counts") or {}
    return (
        f"**Trained** {card.get('created', 'at an unrecorded time')} on "
        f"`{training.get('file', 'unrecorded data')}` "
        f"({training.get('rows_used', 0):,} posts: "
        + ", ".join(f"{counts.get(label, 0):,} {label}" for label in config.LABELS)
        + f"; SHA-256 `{str(training.get('sha256', ''))[:12]}`)."
    )


def metrics_ui(metrics: dict[str, Any]) -> None:
    """Headline scores, per-class table and confusion matrix of one evaluation."""
    cells = st.columns(4)
    cells[0].metric("Macro recall (official)", f"{metrics['macro_recall']:.3f}")
    cells[1].metric("Accuracy", f"{metrics['accuracy']:.3f}")
    cells[2].metric("Macro F1", f"{metrics['macro_f1']:.3f}")
    cells[3].metric("F1-PN", f"{metrics['f1_pn']:.3f}")
    st.caption(f"{metrics['n']:,} labelled posts.")
    left, right = st.columns(2)
    with left:
        st.dataframe(
            pd.DataFrame(metrics["per_class"]).T.rename(index=LABEL_NAMES),
            column_config={
                "support": st.column_config.NumberColumn(format="%d"),
                **{
                    name: st.column_config.NumberColumn(format="%.3f")
                    for name in ("precision", "recall", "f1")
                },
            },
        )
    with right:
        st.altair_chart(confusion_matrix_chart(metrics["confusion_matrix"]))


def indicative_ngrams_ui(predictor: Predictor) -> None:
    """The word n-grams with the largest weights, one table per class."""
    if getattr(predictor, "pipeline", None) is None:
        return  # the transformer tier has no n-gram weights
    st.subheader("Most indicative word n-grams per class")
    columns = st.columns(len(config.LABELS))
    indicative = top_features_per_class(predictor.pipeline, INDICATIVE_NGRAMS, "word")
    for column, label in zip(columns, config.LABELS):
        with column:
            st.markdown(f"**{LABEL_NAMES[label]}**")
            st.dataframe(
                pd.DataFrame(
                    [(readable_ngram(n), weight) for n, weight in indicative[label]],
                    columns=["n-gram", "weight"],
                ),
                hide_index=True,
                column_config={"weight": st.column_config.NumberColumn(format="%.2f")},
            )


if __name__ == "__main__":  # run as a page by st.navigation in app.py
    render(page_context())
