"""The fit baseline the CNN is compared with: a lenstronomy likelihood fit of test lenses (the
naive Dense model is a model variant, ``lenspipe.learning.variants``)."""
