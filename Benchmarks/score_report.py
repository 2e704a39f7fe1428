"""Writes Benchmarks/results/score.md from the JSON of `make bench-score` (codec score --json)."""
import datetime
import json
import os
import platform
import subprocess
import sys


def machine():
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                   if l.startswith("Model name"))
    except StopIteration:
        cpu = platform.processor() or "unknown CPU"
    return f"{cpu}, {os.cpu_count()} cores"


def pct(t):
    return f"{100 * t['edits'] / t['length']:.2f}%" if t and t["length"] else "-"


def tally(t):
    return f"{pct(t)} ({t['edits']}/{t['length']})" if t else "-"


def main():
    out, quick = sys.argv[1], "--quick" in sys.argv
    ocr, asr, sweep = (json.load(open(os.path.join(out, f))) for f in ("ocr.json", "asr.json", "sweep-ocr.json"))
    print("# Machine-perceptual scores (`codec score`)\n")
    print(f"Machine: {machine()}; {datetime.date.today().isoformat()}; `make bench-score`"
          + (" with BENCH_QUICK=1 (fewer files)" if quick else "") + ". The cores were shared with other work "
          "(a PyTorch training run and builds), so times are upper bounds. Scores do not depend on the machine or the thread count.\n")
    print("Engines: tesseract 5.3 (Debian `libtesseract-dev`, `tesseract-ocr-eng`, LSTM, default page segmentation) "
          "and pocketsphinx 0.8+5prealpha (Debian, en-us acoustic model, en-us trigram LM, CMU dictionary, 16 kHz). "
          "CER: edit distance over reference characters after collapsing whitespace; WER: over reference words after "
          "lower-casing and dropping punctuation but apostrophes (docs/SCORE.md). Rates are corpus rates: total edits / total reference length.\n")

    p = ocr["points"][0]
    print(f"## OCR on the original document pages\n\n`codec score --task ocr ../shared/data/images/documents`: "
          f"**CER {tally(p['errors'])}** over {p['files']} pages, {ocr['seconds']:.0f} s.\n")
    print("| page | CER | edits / chars |\n|---|---|---|")
    for r in ocr["rows"]:
        t = r["decodedErrors"]
        print(f"| {os.path.basename(r['file'])} | {pct(t)} | {t['edits']}/{t['length']} |")

    p = asr["points"][0]
    print(f"\n## Speech recognition on the original LibriSpeech test-other clips\n\n"
          f"`codec score --task asr ../shared/data/audio/speech/librispeech/test-other`: "
          f"**WER {tally(p['errors'])}** over {p['files']} clips, {asr['seconds']:.0f} s.\n")
    worst = sorted(asr["rows"], key=lambda r: -r["decodedErrors"]["edits"] / max(1, r["decodedErrors"]["length"]))
    print("| clip | WER | words | recognised |\n|---|---|---|---|")
    for r in worst[:8] + ([{"file": "..."}] if len(worst) > 8 else []):
        if r["file"] == "...":
            print("| ... | | | |")
            continue
        t = r["decodedErrors"]
        print(f"| {os.path.basename(r['file'])} | {pct(t)} | {t['length']} | {r['measurement']['prediction'][:70]} |")
    print("\n(the clips with the highest WER first.) test-other is LibriSpeech's harder half (accented and noisy "
          "speakers), and pocketsphinx's en-us continuous model with its general trigram LM is a 2015-era GMM recogniser: "
          "a WER around 50-60% there is expected of it, not a plumbing fault (its hypotheses track the audio; see the "
          "column). The engine runs with Debian's defaults (live CMN, default beams); it is the fixed instrument, "
          "and the score of interest is how much coding moves it.")

    print(f"\n## Rate sweep over the document pages\n\n`codec score --sweep --task ocr --codec "
          f"{sweep['points'][1]['codec'] if len(sweep['points']) > 1 else '?'} --baselines ../shared/data/images/documents`: "
          f"{len(sweep['points'])} settings x {sweep['points'][0]['files']} pages in **{sweep['seconds']:.0f} s** wall clock "
          f"(every measurement made in this run).\n")
    fidelity = any(p.get("msssim") is not None for p in sweep["points"])
    print("| codec | setting | bits/pixel | CER (truth) | CER vs original |" + (" PSNR dB | MS-SSIM |" if fidelity else "")
          + " seconds |\n|---|---|---|---|---|" + ("---|---|" if fidelity else "") + "---|")
    for p in sweep["points"]:
        rate = f"{p['rate']:.4f}" if p.get("rate") is not None else "-"
        extra = ""
        if fidelity:
            psnr = f"{p['psnr']:.2f}" if p.get("psnr") is not None else "-"
            ms = f"{p['msssim']:.4f}" if p.get("msssim") is not None else "-"
            extra = f" {psnr} | {ms} |"
        print(f"| {p['codec']} | {p['setting']} | {rate} | {tally(p.get('errors'))} | {tally(p.get('errorsVsOriginal'))} |{extra} {p['seconds']:.0f} |")
    print("\nCER vs original is the edit distance to the OCR of the original page; at the highest qualities every "
          "baseline reads exactly as the original. The baselines' qualities reach down to where OCR of these 200-dpi "
          "pages starts to fail; JPEG XL runs at effort 5 and AVIF at speed 8 (docs/SCORE.md). Fidelity columns "
          "(PSNR, MS-SSIM) come with `--fidelity`, left out here: CodecKit's MS-SSIM costs twice the OCR per page.")
    print("\n`seconds`: the sum over the pages of each measurement's time (coding and OCR), on 2 threads.")


if __name__ == "__main__":
    main()
