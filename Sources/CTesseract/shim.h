// Tesseract's C API (Debian libtesseract-dev 5.3). Perception/TesseractOCR.swift uses it.
#include <tesseract/capi.h>
