# mk/product.mk — the product layer: database, clustering, output folders, metrics, sort verb,
# LFW evaluation and clustering benchmark tools.
