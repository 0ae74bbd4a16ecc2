"""gan-style: neural style transfer and image-to-image translation as PyTorch Lightning modules."""

__version__ = "0.1.0"
