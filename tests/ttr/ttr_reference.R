# Reference values from R's TTR for test_ttr_reference: a fixed, gap-free OHLCV series and the
# TTR indicators that docs/features.md cites, written with 17 significant digits.
# Usage: Rscript ttr_reference.R OUT.csv
suppressPackageStartupMessages(library(TTR))
out <- commandArgs(trailingOnly = TRUE)[1]
set.seed(7)
n <- 300
close <- 100 * exp(cumsum(rnorm(n, 0, 0.02)))
open <- c(close[1], head(close, -1)) * exp(rnorm(n, 0, 0.005))
high <- pmax(open, close) * exp(abs(rnorm(n, 0, 0.01)))
low <- pmin(open, close) * exp(-abs(rnorm(n, 0, 0.01)))
volume <- round(exp(rnorm(n, 13, 0.5)))
hlc <- cbind(high, low, close)
r <- ROC(close, type = "continuous")
macd <- MACD(close, 12, 26, 9, percent = TRUE)
df <- data.frame(
  open = open, high = high, low = low, close = close, volume = volume,
  logret_1 = ROC(close, 1, type = "continuous"), logret_5 = ROC(close, 5, type = "continuous"),
  logret_10 = ROC(close, 10, type = "continuous"), logret_20 = ROC(close, 20, type = "continuous"),
  vol_20 = runSD(r, 20), rsi_14 = RSI(close, 14), macd_12_26 = macd[, "macd"], macd_signal_9 = macd[, "signal"],
  bb_pctb_20 = BBands(close, n = 20, sd = 2)[, "pctB"], atr_14_rel = ATR(hlc, n = 14)[, "atr"] / close,
  sma_20_rel = close / SMA(close, 20) - 1, sma_50_rel = close / SMA(close, 50) - 1,
  clv = CLV(hlc), logret_60 = ROC(close, 60, type = "continuous"), vol_60 = runSD(r, 60),
  high_20_rel = close / runMax(high, 20) - 1)
fmt <- as.data.frame(lapply(df, function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))))
write.csv(fmt, out, row.names = FALSE, quote = FALSE)
