"""The "Model card" page: what the model is, its data, its scores, what it looks at."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app_pages import tier_comparison
from app_pages.charts import confusion_matrix_chart, cutoff_chart
from app_pages.shared import LABEL_NAMES, PageContext, page_context
from app_pages.tier_comparison import (
    comparison_ui,
    limitations_ui,
    load_comparison,
    tier_row,
)
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
    """What the chosen tier is, what it was trained on, how well it does, how
    it compares with the other tiers, and what it gets wrong."""
    predictor = context.predictor
    card = predictor.card
    tier = str(card.get("backend", "classic"))
    comparison, problem = load_comparison(tier_comparison.COMPARISON_PATH)
    if tier == "cascade":
        if card.get("routing_warning"):
            st.warning(card["routing_warning"])
        st.markdown(cascade_description(card, predictor.version))
        cascade_metrics_ui(card, comparison)
    else:
        describe = transformer_description if tier == "transformer" else description
        st.markdown(describe(card, predictor.version))
        st.markdown(training_summary(card))
        evaluation_ui(card)
    st.markdown("**Published results on the SemEval-2017 test set, for comparison**")
    st.dataframe(REFERENCE_SCORES, hide_index=True)
    comparison_ui(tier, comparison, problem)
    limitations_ui(card)
    if isinstance(predictor, Predictor) and tier != "transformer":
        indicative_ngrams_ui(predictor, tier)
    with st.expander("Hyperparameters and library versions"):
        st.json(settings(card))


def evaluation_ui(card: dict[str, Any]) -> None:
    """The card's test-set scores, or its validation scores when it has none."""
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


def settings(card: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameters, library versions and seed of a card (of both nested
    cards for the cascade)."""
    if card.get("backend") == "cascade":
        return {
            tier: settings(card.get(tier) or {}) for tier in ("classic", "transformer")
        }
    return {k: card[k] for k in ("hyperparameters", "versions", "seed") if k in card}


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


def transformer_description(card: dict[str, Any], version: str) -> str:
    """One paragraph (markdown) on the fine-tuned encoder: how it was trained,
    quantised and calibrated."""
    params = card.get("hyperparameters") or {}
    parts = ["the embeddings"] if params.get("freeze_embeddings") else []
    if params.get("frozen_layers"):
        parts.append(f"the lowest {params['frozen_layers']} encoder layer(s)")
    frozen = " and ".join(parts) or "nothing"
    text = (
        f"**What it is.** {card.get('encoder', 'A sentence encoder')}, fine-tuned "
        "on the three classes: "
        f"{params.get('epochs', '?')} epoch(s), {card.get('steps_done', 0):,} "
        f"steps of {params.get('batch_size', '?')} posts in "
        f"{card.get('training_seconds', 0):,.0f} s on "
        f"{params.get('device', 'an unrecorded device')}, with {frozen} frozen "
        f"and posts cut at {params.get('max_length', '?')} tokens. It is served "
        "as ONNX with its weights quantised"
    )
    check = card.get("quantisation_check") or {}
    if check:
        text += (
            f" (macro-recall {check['int8_macro_recall']:.3f} against "
            f"{check['fp32_macro_recall']:.3f} unquantised on {check['posts']:,} "
            "held-out posts)"
        )
    if card.get("class_bias") is not None:
        bias = ", ".join(
            f"{label} {value:+.2f}"
            for label, value in zip(
                card.get("classes", config.LABELS), card["class_bias"]
            )
        )
        how = card.get("class_bias_method", "fitted on the held-out part")
        text += (
            f". A per-class logit bias ({bias}, for macro-recall; {how}) and a "
            f"temperature ({card.get('temperature', 1.0):.2f}, for calibrated "
            f"confidences, fitted on the held-out "
            f"{card.get('validation_size', 0.1):.0%} of the training file)"
        )
    return text + f". Model version `{version}`."


def cascade_description(card: dict[str, Any], version: str) -> str:
    """One paragraph (markdown) on the cascade: what scores a post, and how
    the cut-off was chosen."""
    routing = (card.get("transformer") or {}).get("cascade") or {}
    text = (
        "**What it is.** Two tiers in one. The classic model (word and character "
        "n-grams, sentiment lexicons and word vectors, logistic regression) scores "
        "every post; the posts it is less sure of than the cut-off "
        f"**{card.get('cutoff', 0):g}** (its top probability below that)"
    )
    if card.get("route_negation"):
        share = routing.get("negation_or_contrast_share")
        text += (
            ', and every post with a negation or a contrasting "but"'
            + (f" ({share:.1%} of the held-out posts)" if share is not None else "")
            + ", which a bag of words reads poorly,"
        )
    text += " are scored again by the fine-tuned transformer."
    weight = card.get("classic_weight") or 0.0
    if weight:
        text += (
            f" Below the cut-off, the answer pools both tiers' log-probabilities, "
            f"**{weight:g}** for the classic model's (the weight of lowest log loss "
            "on the held-out posts): the transformer is over-confident on posts "
            "unlike its training data, and the bag of words tempers it. Negated or "
            "contrasted posts keep the transformer's answer."
        )
    else:
        text += " Its answer counts."
    chosen_on = routing.get("chosen_on") or {}
    if chosen_on:
        text += (
            f" The cut-off was chosen on `{chosen_on.get('file', 'train.csv')}` "
            f"({chosen_on.get('split', 'a held-out split')}): the lowest within "
            f"{routing.get('tolerance', 0):.3f} of the best macro-recall, so as few "
            "posts as possible pay for the transformer. The test set chose nothing."
        )
    return text + f" Model version `{version}`."


def cascade_metrics_ui(card: dict[str, Any], comparison: pd.DataFrame | None) -> None:
    """The cascade's scores: its card has none of its own, so those of the
    nested cards, the cut-off search and the tier comparison (None: absent)."""
    st.subheader("Scores")
    st.caption(
        "The cascade's card records no metrics of its own: below are the held-out "
        "scores from choosing its cut-off, the test scores of the two models it "
        "combines, and its own test score from the tier comparison."
    )
    routing = (card.get("transformer") or {}).get("cascade") or {}
    at_cutoff = next(
        (r for r in routing.get("table", []) if r.get("cutoff") == card.get("cutoff")),
        {},
    )
    held_out = {
        "Classic alone": routing.get("classic_alone_macro_recall"),
        "Transformer alone": routing.get("transformer_alone_macro_recall"),
        "Cascade": at_cutoff.get("macro_recall"),
    }
    row = None if comparison is None else tier_row(comparison, "cascade")
    test = {
        "Classic alone": benchmark_macro_recall(card.get("classic") or {}),
        "Transformer alone": benchmark_macro_recall(card.get("transformer") or {}),
        "Cascade": None if row is None else row["macro_recall"],
    }
    for title, scores in (
        ("Macro recall on the training file's held-out split", held_out),
        ("Macro recall on the test set", test),
    ):
        st.markdown(f"**{title}**")
        cells = st.columns(4)
        for cell, (name, score) in zip(cells, scores.items()):
            cell.metric(name, "n/a" if score is None else f"{score:.3f}")
    if at_cutoff.get("share_sent") is not None:
        st.caption(
            f"At the cut-off, {at_cutoff['share_sent']:.1%} of the held-out posts "
            "went to the transformer."
        )
    if routing.get("table"):
        st.altair_chart(cutoff_chart(routing["table"], card.get("cutoff")))
        st.caption(
            "Posts with a negation or a contrasting 'but' always go on, so the "
            "share never falls below theirs. A lower cut-off is faster and less "
            "accurate: `--cutoff` on predict, evaluate and brands picks another "
            "point (choose it here, on held-out posts, not on your test data)."
        )


def benchmark_macro_recall(card: dict[str, Any]) -> float | None:
    """A card's test-set macro-recall, None when it records no test evaluation."""
    return (card.get("test_metrics") or {}).get("macro_recall")


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


def indicative_ngrams_ui(predictor: Predictor, tier: str) -> None:
    """The classic model's word n-grams with the largest weights, one table
    per class (for the cascade: of the classic model inside it)."""
    st.subheader(
        "Most indicative word n-grams per class"
        + (
            " (the classic model, which scores every post first)"
            if tier == "cascade"
            else ""
        )
    )
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
