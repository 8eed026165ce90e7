"""Notebook 09 writes the training loop out in plain view, then hands over to helpers.train.train.
This checks that the plain loop (the same lines as the notebook's) takes exactly train()'s steps:
the same seed, the same batches, the same learning rates, so the same losses and weights."""
import torch

from helpers.model import GPT
from helpers.train import config_for, get_batch, learning_rate, load_data, make_optimizer, train


def train_by_hand(config, tokens, vocab_size, steps):
    """Notebook 09's loop: a batch, forward, loss, backward, clipping, an AdamW step, warm-up then cosine."""
    torch.manual_seed(config.seed)                                    # the same first weights as train()
    model = GPT(config.model_config(vocab_size))
    optimizer = make_optimizer(model, config, "cpu")                  # AdamW, weight decay on matrices only
    batches = torch.Generator().manual_seed(config.seed)              # where the windows start
    losses = []
    for step in range(steps):
        lr = learning_rate(config, step, step / config.max_steps)     # warm-up, then a cosine
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = get_batch(tokens, config.batch_size, config.context, batches)   # (B, T) each
        _, loss = model(x, y)                                         # forward: mean cross-entropy
        loss.backward()                                               # the gradient of every weight
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()                                              # move every weight against its slope
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return model, losses


def test_the_plain_loop_takes_the_steps_train_takes(tmp_path):
    config = config_for("smoke", device="cpu", dtype="float32", compile=False, log_interval=1,
                        out_dir=str(tmp_path), quiet=True)
    trainer, summary = train(config)              # first: it also settles torch's thread count
    by_train = [record["train_loss"] for record in trainer.history]
    data = load_data(config.tokens)
    model, by_hand = train_by_hand(config, data.train, data.vocab_size, config.max_steps)

    assert len(by_hand) == len(by_train) == summary["steps"] == config.max_steps
    torch.testing.assert_close(torch.tensor(by_hand), torch.tensor(by_train), rtol=0, atol=1e-5)
    for name, weight in model.state_dict().items():
        torch.testing.assert_close(weight, trainer.model.state_dict()[name], rtol=1e-4, atol=1e-5)
    assert by_hand[-1] < by_hand[0] - 0.5         # and it learns


def test_a_different_seed_takes_different_steps(tmp_path):
    # The equality above is no accident of the data: another seed draws other batches and weights.
    config = config_for("smoke", max_steps=5, device="cpu", out_dir=str(tmp_path), quiet=True)
    data = load_data(config.tokens)
    _, seed_0 = train_by_hand(config, data.train, data.vocab_size, 5)
    _, seed_1 = train_by_hand(config_for("smoke", max_steps=5, seed=1), data.train, data.vocab_size, 5)
    assert max(abs(a - b) for a, b in zip(seed_0, seed_1)) > 1e-3
