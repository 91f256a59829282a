"""What a simulated frame is made of, as data: the Pen and the Scene. Every part of the
simulator reads them (pen.py draws with a Pen, camera.py photographs a Scene, scene.py makes
and forms them), and this module imports none of those parts."""

from dataclasses import dataclass
from typing import Optional

import numpy as np

REFERENCE_HEIGHT = 200.0  # digit height (px) at which the pens' widths hold


@dataclass(frozen=True)
class Pen:
    """colour: B, G, R share of the light the ink lets through where it fully covers the paper;
    width: stroke width range in px for a REFERENCE_HEIGHT tall digit."""

    colour: tuple
    width: tuple
    texture: str  # 'ballpoint', 'graphite' or 'felt'


@dataclass(frozen=True)
class Scene:
    """Everything one frame is made of. Arrays are float32 [H, W] unless said otherwise."""

    paper: tuple  # B, G, R reflectance
    level: float  # grey level of the lit paper, on average over the ROI
    tint: tuple  # B, G, R colour of the light, white balance included
    pen: Pen
    ink: tuple  # this pen's B, G, R transmittance in this frame
    pen_width: float  # px
    height: float  # px, of the ink's bounding box
    offset: Optional[tuple]  # (dx, dy) of the ink's centre from the ROI's; None: anywhere inside
    angle: float  # degrees, counter-clockwise
    slant: float  # horizontal shear of the handwriting
    aspect: float  # width stretch of the handwriting
    antialias: bool  # False: strokes drawn with hard pixel edges
    marks: tuple  # (coverage, B G R transmittance) on the sheet, under the ink
    covers: tuple  # (alpha, colour float32 [3, H, W]) in front of the sheet
    light: Optional[np.ndarray]  # relative light, about 1 over the ROI; None: even
    glare: Optional[np.ndarray]  # grey levels reflected straight into the lens
    warp: Optional[np.ndarray]  # float64 [3, 3] homography of the sheet
    blur: float  # Gaussian sigma of the lens, px
    kernel: Optional[np.ndarray]  # float32 blur kernel replacing the Gaussian
    focus: Optional[np.ndarray]  # share of each pixel out of focus (blur) vs in focus
    resolution: float  # sensor resolution relative to the frame (upscaled when < 1)
    noise: float  # sensor noise sigma, grey levels
    chroma_noise: float  # sigma of blotchy colour noise, grey levels
    denoise: int  # median filter size of the phone's noise reduction, 0 = none
    sharpen: float  # unsharp mask amount, 0 = none
    jpeg: int  # JPEG quality
