"""Export the pretrained all-MiniLM-L6-v2 (not fine-tuned) as an int8 ONNX
file of mean-pooled sentence embeddings, for the "frozen MiniLM embeddings +
LR" row of benchmarks/compare_tiers.py. Needs torch (.venv-transformer):

    .venv-transformer/bin/python benchmarks/export_frozen_encoder.py

Writes build/frozen_minilm/{model.fp32.onnx,model.onnx}; nothing is committed.
"""

from __future__ import annotations

import sys

import torch

from sentiment import config
from sentiment.model.word_vectors import encoder_directory
from sentiment.model.transformer_export import quantise

OUT = config.PROJECT_ROOT / "build" / "frozen_minilm"


class MeanPooled(torch.nn.Module):
    """The encoder's token states averaged over real tokens (the embedding)."""

    def __init__(self) -> None:
        super().__init__()
        from transformers import AutoModel

        self.encoder = AutoModel.from_pretrained(
            encoder_directory("fine-tuning")
        ).eval()

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> torch.Tensor:
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    dummy = (torch.ones((2, 8), dtype=torch.long), torch.ones((2, 8), dtype=torch.long))
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        MeanPooled(),
        dummy,
        str(OUT / "model.fp32.onnx"),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],  # the name OnnxSentimentModel reads
        dynamic_axes={
            "input_ids": axes,
            "attention_mask": axes,
            "logits": {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )
    quantise(OUT / "model.fp32.onnx", OUT / "model.onnx")
    print(f"wrote {OUT / 'model.onnx'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
